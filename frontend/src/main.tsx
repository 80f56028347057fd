import { QueryClient, QueryClientProvider } from "@tanstack/react-query";
import { StrictMode } from "react";
import { createRoot } from "react-dom/client";
import { BrowserRouter } from "react-router-dom";
import { App } from "./App";
import { fetchConversations } from "./api/hooks";
import { INBOX_DEFAULT_FILTERS } from "./lib/inboxFilters";
import { keys } from "./realtime/applyEvent";
import "./styles.css";

const queryClient = new QueryClient({
  defaultOptions: { queries: { staleTime: 15_000, refetchOnWindowFocus: true } },
});

// The inbox's first list does not depend on who is signed in: fetch it alongside /auth/me/
// instead of after it (one round trip less before the inbox is usable).
if (window.location.pathname.replace(/\/$/, "") === "/app/inbox" && !window.location.search) {
  void queryClient.prefetchQuery({
    queryKey: keys.conversations(INBOX_DEFAULT_FILTERS),
    queryFn: () => fetchConversations(INBOX_DEFAULT_FILTERS),
  });
}

createRoot(document.getElementById("root") as HTMLElement).render(
  <StrictMode>
    <QueryClientProvider client={queryClient}>
      <BrowserRouter basename="/app">
        <App />
      </BrowserRouter>
    </QueryClientProvider>
  </StrictMode>,
);
