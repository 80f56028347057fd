import { useMutation, useQuery, useQueryClient } from "@tanstack/react-query";
import { type FormEvent, useState } from "react";
import { Navigate, Route, Routes } from "react-router-dom";
import { type ApiKey, type Channel, listOf, type Membership, type Page, request } from "../api/client";
import { endpoints } from "../api/endpoints";
import { useOptionalApi } from "../api/hooks";
import { hasRole, useCurrentUser } from "../auth";
import { DataTable, inferColumns } from "../components/DataTable";
import { ErrorMessage, Loading, QueryState } from "../components/States";
import { SubNav } from "../components/Tabs";
import { formatDateTime, humanize } from "../lib/format";
import { BusinessHoursSettings } from "./BusinessHours";

export default function Settings() {
  return (
    <section aria-labelledby="settings-title">
      <h1 id="settings-title">Settings</h1>
      <SubNav
        label="Settings sections"
        items={[
          ["/settings/channels", "Channels"],
          ["/settings/team", "Team and roles"],
          ["/settings/status", "My status"],
          ["/settings/canned", "Canned responses"],
          ["/settings/api-keys", "API keys"],
          ["/settings/hours", "Business hours"],
          ["/settings/audit", "Audit log"],
        ]}
      />
      <Routes>
        <Route index element={<Navigate to="channels" replace />} />
        <Route path="channels" element={<Channels />} />
        <Route path="team" element={<Team />} />
        <Route path="status" element={<AgentStatus />} />
        <Route path="canned" element={<Canned />} />
        <Route path="api-keys" element={<ApiKeys />} />
        <Route path="hours" element={<BusinessHoursSettings />} />
        <Route path="audit" element={<AuditLog />} />
      </Routes>
    </section>
  );
}

/** What each channel type needs: config fields (stored as-is) and credentials (write-only secrets). */
export const CHANNEL_FIELDS: Record<string, { config: [string, string][]; credentials: [string, string][] }> = {
  webchat: { config: [["allowed_origins", "Allowed origins (comma-separated)"], ["greeting", "Greeting"]], credentials: [] },
  whatsapp: {
    config: [
      ["phone_number_id", "Phone number id"],
      ["verify_token", "Webhook verify token"],
      ["api_version", "Graph API version"],
      ["graph_base_url", "Graph API base URL"],
    ],
    credentials: [
      ["access_token", "Access token"],
      ["app_secret", "App secret"],
    ],
  },
  messenger: {
    config: [
      ["page_id", "Page id"],
      ["verify_token", "Webhook verify token"],
      ["graph_base_url", "Graph API base URL"],
    ],
    credentials: [
      ["page_access_token", "Page access token"],
      ["app_secret", "App secret"],
    ],
  },
  generic: { config: [["callback_url", "Callback URL for outbound messages"]], credentials: [["secret", "Signing secret"]] },
};

function Channels() {
  const me = useCurrentUser();
  const client = useQueryClient();
  const channels = useQuery({ queryKey: ["channels"], queryFn: () => request<Page<Channel>>("/api/v1/channels/?page_size=100") });
  const [type, setType] = useState("webchat");
  const [name, setName] = useState("");
  const [values, setValues] = useState<Record<string, string>>({});
  const create = useMutation({
    mutationFn: () => {
      const spec = CHANNEL_FIELDS[type] ?? { config: [], credentials: [] };
      const config: Record<string, unknown> = {};
      for (const [key] of spec.config) {
        const value = values[`config.${key}`]?.trim();
        if (!value) continue;
        config[key] = key === "allowed_origins" ? value.split(",").map((v) => v.trim()).filter(Boolean) : value;
      }
      const credentials: Record<string, string> = {};
      for (const [key] of spec.credentials) {
        const value = values[`credentials.${key}`]?.trim();
        if (value) credentials[key] = value;
      }
      return request<Channel>("/api/v1/channels/", { method: "POST", json: { type, name, config, credentials } });
    },
    onSuccess: () => {
      setName("");
      setValues({});
      void client.invalidateQueries({ queryKey: ["channels"] });
    },
  });
  const submit = (event: FormEvent) => {
    event.preventDefault();
    create.mutate();
  };
  const spec = CHANNEL_FIELDS[type] ?? { config: [], credentials: [] };
  return (
    <div>
      <h2>Channels</h2>
      {channels.isPending ? <Loading /> : null}
      {channels.isError ? <ErrorMessage error={channels.error} /> : null}
      {channels.data ? (
        <DataTable<Channel>
          caption="Connected channels"
          rows={channels.data.results}
          columns={[
            { key: "name", label: "Name" },
            { key: "type", label: "Type", render: (c) => humanize(c.type) },
            { key: "key", label: "Key", render: (c) => <code>{c.key}</code> },
            { key: "enabled", label: "Enabled", render: (c) => (c.enabled ? "yes" : "no") },
            { key: "webhook_url", label: "Webhook URL", render: (c) => <code>{c.webhook_url}</code> },
            {
              key: "verify",
              label: "Verify token",
              render: (c) => <code>{String((c.config as Record<string, unknown> | undefined)?.verify_token ?? "—")}</code>,
            },
            { key: "credential_names", label: "Credentials set", render: (c) => c.credential_names.join(", ") || "—" },
          ]}
        />
      ) : null}
      {hasRole(me, "admin") ? (
        <form onSubmit={submit} className="stack card" aria-label="Connect a channel">
          <h3>Connect a channel</h3>
          <label>
            Type
            <select value={type} onChange={(e) => setType(e.target.value)}>
              {Object.keys(CHANNEL_FIELDS).map((t) => (
                <option key={t} value={t}>
                  {humanize(t)}
                </option>
              ))}
            </select>
          </label>
          <label>
            Name
            <input required maxLength={100} value={name} onChange={(e) => setName(e.target.value)} />
          </label>
          {spec.config.map(([key, label]) => (
            <label key={`config.${key}`}>
              {label}
              <input value={values[`config.${key}`] ?? ""} onChange={(e) => setValues({ ...values, [`config.${key}`]: e.target.value })} />
            </label>
          ))}
          {spec.credentials.map(([key, label]) => (
            <label key={`credentials.${key}`}>
              {label} (stored encrypted, never shown again)
              <input
                type="password"
                autoComplete="off"
                value={values[`credentials.${key}`] ?? ""}
                onChange={(e) => setValues({ ...values, [`credentials.${key}`]: e.target.value })}
              />
            </label>
          ))}
          <button type="submit" disabled={create.isPending}>
            Connect
          </button>
          {create.error ? <ErrorMessage error={create.error} /> : null}
        </form>
      ) : null}
    </div>
  );
}

function Team() {
  const me = useCurrentUser();
  const client = useQueryClient();
  const members = useQuery({
    queryKey: ["members"],
    enabled: hasRole(me, "supervisor"),
    queryFn: () => request<Page<Membership>>("/api/v1/members/?page_size=500"),
  });
  const [form, setForm] = useState({ email: "", name: "", role: "agent" });
  const add = useMutation({
    mutationFn: () => request<Membership>("/api/v1/members/", { method: "POST", json: form }),
    onSuccess: () => {
      setForm({ email: "", name: "", role: "agent" });
      void client.invalidateQueries({ queryKey: ["members"] });
    },
  });
  const change = useMutation({
    mutationFn: ({ id, role }: { id: string; role: string }) => request(`/api/v1/members/${id}/`, { method: "PATCH", json: { role } }),
    onSettled: () => void client.invalidateQueries({ queryKey: ["members"] }),
  });
  if (!hasRole(me, "supervisor")) return <p className="muted">Supervisors and admins see the team.</p>;
  const manager = hasRole(me, "admin");
  return (
    <div>
      <h2>Team and roles</h2>
      {members.isPending ? <Loading /> : null}
      {members.isError ? <ErrorMessage error={members.error} /> : null}
      <DataTable<Membership>
        caption="Members"
        rows={members.data?.results ?? []}
        columns={[
          { key: "name", label: "Name" },
          { key: "email", label: "Email" },
          {
            key: "role",
            label: "Role",
            render: (m) =>
              manager ? (
                <select aria-label={`Role of ${m.email}`} value={m.role} onChange={(e) => change.mutate({ id: m.id, role: e.target.value })}>
                  {["owner", "admin", "supervisor", "agent", "analyst", "viewer"].map((r) => (
                    <option key={r} value={r}>
                      {r}
                    </option>
                  ))}
                </select>
              ) : (
                m.role
              ),
          },
          { key: "created_at", label: "Since", render: (m) => formatDateTime(m.created_at) },
        ]}
      />
      {change.error ? <ErrorMessage error={change.error} /> : null}
      {manager ? (
        <form
          className="stack card"
          aria-label="Invite a member"
          onSubmit={(e) => {
            e.preventDefault();
            add.mutate();
          }}
        >
          <h3>Add a member</h3>
          <label>
            Email
            <input type="email" required value={form.email} onChange={(e) => setForm({ ...form, email: e.target.value })} />
          </label>
          <label>
            Name
            <input value={form.name} onChange={(e) => setForm({ ...form, name: e.target.value })} />
          </label>
          <label>
            Role
            <select value={form.role} onChange={(e) => setForm({ ...form, role: e.target.value })}>
              {["admin", "supervisor", "agent", "analyst", "viewer"].map((r) => (
                <option key={r} value={r}>
                  {r}
                </option>
              ))}
            </select>
          </label>
          <button type="submit">Add member</button>
          {add.error ? <ErrorMessage error={add.error} /> : null}
        </form>
      ) : null}
    </div>
  );
}

function AgentStatus() {
  const status = useOptionalApi<Record<string, unknown>>(endpoints.agentStatus);
  const client = useQueryClient();
  const set = useMutation({
    mutationFn: (value: string) => request(endpoints.agentStatus, { method: "PATCH", json: { status: value } }),
    onSuccess: () => void client.invalidateQueries({ queryKey: ["optional", endpoints.agentStatus] }),
  });
  return (
    <div>
      <h2>My status and capacity</h2>
      <QueryState query={status} feature="Agent status">
        <p>
          Status: <strong>{String(status.data?.status ?? "")}</strong> · capacity {String(status.data?.capacity ?? "—")} · open{" "}
          {String(status.data?.open_conversations ?? status.data?.load ?? "—")}
        </p>
        <div className="actions">
          {["online", "away", "offline"].map((value) => (
            <button key={value} type="button" aria-pressed={status.data?.status === value} onClick={() => set.mutate(value)}>
              {humanize(value)}
            </button>
          ))}
        </div>
        {set.error ? <ErrorMessage error={set.error} /> : null}
      </QueryState>
    </div>
  );
}

function Canned() {
  const canned = useOptionalApi<Page<Record<string, unknown>> | Record<string, unknown>[]>(endpoints.cannedResponses);
  const client = useQueryClient();
  const [form, setForm] = useState({ shortcut: "", title: "", text: "" });
  const add = useMutation({
    mutationFn: () => request(endpoints.cannedResponses, { method: "POST", json: form }),
    onSuccess: () => {
      setForm({ shortcut: "", title: "", text: "" });
      void client.invalidateQueries({ queryKey: ["optional", endpoints.cannedResponses] });
    },
  });
  const rows = listOf(canned.data);
  return (
    <div>
      <h2>Canned responses</h2>
      <QueryState query={canned} feature="Canned responses">
        <DataTable caption="Canned responses" rows={rows} columns={inferColumns(rows)} />
        <form
          className="stack card"
          aria-label="New canned response"
          onSubmit={(e) => {
            e.preventDefault();
            add.mutate();
          }}
        >
          <h3>New canned response</h3>
          <label>
            Shortcut
            <input required value={form.shortcut} onChange={(e) => setForm({ ...form, shortcut: e.target.value })} />
          </label>
          <label>
            Title
            <input value={form.title} onChange={(e) => setForm({ ...form, title: e.target.value })} />
          </label>
          <label>
            Text (variables like {"{{customer.name}}"})
            <textarea required value={form.text} onChange={(e) => setForm({ ...form, text: e.target.value })} />
          </label>
          <button type="submit">Save</button>
          {add.error ? <ErrorMessage error={add.error} /> : null}
        </form>
      </QueryState>
    </div>
  );
}

function ApiKeys() {
  const me = useCurrentUser();
  const client = useQueryClient();
  const keys = useQuery({
    queryKey: ["api-keys"],
    enabled: hasRole(me, "admin"),
    queryFn: () => request<Page<ApiKey>>("/api/v1/api-keys/?page_size=200"),
  });
  const [name, setName] = useState("");
  const [role, setRole] = useState("agent");
  const [secret, setSecret] = useState("");
  const create = useMutation({
    mutationFn: () => request<ApiKey & { key: string }>("/api/v1/api-keys/", { method: "POST", json: { name, role } }),
    onSuccess: (created) => {
      setSecret(created.key);
      setName("");
      void client.invalidateQueries({ queryKey: ["api-keys"] });
    },
  });
  const revoke = useMutation({
    mutationFn: (id: string) => request(`/api/v1/api-keys/${id}/`, { method: "DELETE" }),
    onSuccess: () => void client.invalidateQueries({ queryKey: ["api-keys"] }),
  });
  if (!hasRole(me, "admin")) return <p className="muted">Admins and owners manage API keys.</p>;
  return (
    <div>
      <h2>API keys</h2>
      {keys.isError ? <ErrorMessage error={keys.error} /> : null}
      <DataTable<ApiKey>
        caption="API keys"
        rows={keys.data?.results ?? []}
        columns={[
          { key: "name", label: "Name" },
          { key: "prefix", label: "Prefix", render: (k) => <code>{k.prefix}</code> },
          { key: "role", label: "Role" },
          { key: "is_active", label: "Active", render: (k) => (k.is_active ? "yes" : "revoked") },
          { key: "last_used_at", label: "Last used", render: (k) => formatDateTime(k.last_used_at) },
          {
            key: "revoke",
            label: "Actions",
            render: (k) =>
              k.is_active ? (
                <button type="button" onClick={() => revoke.mutate(k.id)} aria-label={`Revoke ${k.name}`}>
                  Revoke
                </button>
              ) : null,
          },
        ]}
      />
      <form
        className="row card"
        aria-label="Create an API key"
        onSubmit={(e) => {
          e.preventDefault();
          create.mutate();
        }}
      >
        <label>
          Name
          <input required value={name} onChange={(e) => setName(e.target.value)} />
        </label>
        <label>
          Role
          <select value={role} onChange={(e) => setRole(e.target.value)}>
            {["admin", "supervisor", "agent", "analyst", "viewer"].map((r) => (
              <option key={r}>{r}</option>
            ))}
          </select>
        </label>
        <button type="submit">Create key</button>
      </form>
      {secret ? (
        <p className="notice" role="status">
          New key (copy it now, it is not shown again): <code data-testid="new-api-key">{secret}</code>
        </p>
      ) : null}
      {create.error ? <ErrorMessage error={create.error} /> : null}
    </div>
  );
}

interface AuditEvent {
  id: string;
  actor: string;
  action: string;
  target_type: string;
  target_id: string;
  data: unknown;
  created_at: string;
}

function AuditLog() {
  const [action, setAction] = useState("");
  const events = useOptionalApi<Page<AuditEvent>>(`${endpoints.auditEvents}?page_size=200${action ? `&action=${encodeURIComponent(action)}` : ""}`);
  return (
    <div>
      <h2>Audit log</h2>
      <label>
        Action
        <input value={action} onChange={(e) => setAction(e.target.value)} placeholder="e.g. apikey.created" />
      </label>
      <QueryState query={events} feature="The audit log">
        <DataTable<AuditEvent>
          caption={`${events.data?.count ?? 0} events`}
          rows={events.data?.results ?? []}
          columns={[
            { key: "created_at", label: "When", render: (e) => formatDateTime(e.created_at) },
            { key: "actor", label: "Actor" },
            { key: "action", label: "Action" },
            { key: "target", label: "Target", render: (e) => `${e.target_type} ${e.target_id}` },
            { key: "data", label: "Details", render: (e) => <code>{JSON.stringify(e.data)}</code> },
          ]}
        />
      </QueryState>
    </div>
  );
}
