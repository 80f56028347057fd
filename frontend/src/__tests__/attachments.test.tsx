import { render, screen } from "@testing-library/react";
import { describe, expect, it } from "vitest";
import type { Message } from "../api/client";
import { MessageStream } from "../pages/inbox/ConversationView";
import { message } from "./fixtures";

type Attachment = Message["attachments"][number];

function attachment(overrides: Partial<Attachment>): Attachment {
  return {
    id: "a1",
    kind: "document",
    mime_type: "application/pdf",
    filename: "invoice.pdf",
    size_bytes: null,
    url: "",
    file_url: "",
    media_status: "",
    media_error: "",
    ...overrides,
  } as Attachment;
}

describe("message attachments", () => {
  it("say why a refused file is not shown, and link a stored one", () => {
    const refused = attachment({ media_status: "quarantined", media_error: "malware found by the scanner (Eicar-Test-Signature)" });
    const stored = attachment({ id: "a2", filename: "receipt.pdf", file_url: "/api/v1/attachments/a2/file/" });
    render(<MessageStream messages={[message({ attachments: [refused, stored] })]} loading={false} error={null} />);
    expect(screen.getByText("invoice.pdf (quarantined: malware found by the scanner (Eicar-Test-Signature))")).toBeTruthy();
    expect(screen.queryByRole("link", { name: "invoice.pdf" })).toBeNull();
    expect(screen.getByRole("link", { name: "receipt.pdf" }).getAttribute("href")).toBe("/api/v1/attachments/a2/file/");
  });
});
