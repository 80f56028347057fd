import { useMutation, useQuery, useQueryClient } from "@tanstack/react-query";
import { type FormEvent, useEffect, useState } from "react";
import { api, type Schemas, unwrap } from "../api/client";
import { hasRole, useCurrentUser } from "../auth";
import { ErrorMessage, Loading } from "../components/States";

type Hours = Schemas["BusinessHours"];

export const DAYS = [
  ["mon", "Monday"],
  ["tue", "Tuesday"],
  ["wed", "Wednesday"],
  ["thu", "Thursday"],
  ["fri", "Friday"],
  ["sat", "Saturday"],
  ["sun", "Sunday"],
] as const;

const SPAN = /^\s*(\d{1,2}:\d{2})\s*[-–]\s*(\d{1,2}:\d{2})\s*$/;

/** "09:00-12:00, 13:00-17:00" → [["09:00","12:00"],["13:00","17:00"]]; throws with a reason. */
export function parseSpans(text: string): string[][] {
  return text
    .split(",")
    .map((part) => part.trim())
    .filter(Boolean)
    .map((part) => {
      const match = SPAN.exec(part);
      if (!match) throw new Error(`"${part}" is not a time span like 09:00-17:00`);
      return [(match[1] ?? "").padStart(5, "0"), (match[2] ?? "").padStart(5, "0")];
    });
}

export function formatSpans(spans: string[][] | undefined): string {
  return (spans ?? []).map(([start, end]) => `${start}-${end}`).join(", ");
}

interface FormState {
  timezone: string;
  days: Record<string, string>;
  holidays: string;
}

function toForm(hours: Hours): FormState {
  return {
    timezone: hours.timezone || "UTC",
    days: Object.fromEntries(DAYS.map(([day]) => [day, formatSpans(hours.hours[day])])),
    holidays: (hours.holidays ?? []).join("\n"),
  };
}

function timeZones(): string[] {
  const intl = Intl as unknown as { supportedValuesOf?: (key: string) => string[] };
  return intl.supportedValuesOf ? intl.supportedValuesOf("timeZone") : [];
}

/** The tenant's business hours: read by everyone, edited by admins (PUT), cleared to "always open" (DELETE). */
export function BusinessHoursSettings() {
  const me = useCurrentUser();
  const canEdit = hasRole(me, "admin");
  const client = useQueryClient();
  const hours = useQuery({
    queryKey: ["business-hours"],
    queryFn: async (): Promise<Hours> => unwrap(await api.GET("/api/v1/business-hours/")),
  });
  const [form, setForm] = useState<FormState | null>(null);
  const [problem, setProblem] = useState("");
  const [saved, setSaved] = useState("");
  useEffect(() => {
    if (hours.data) setForm(toForm(hours.data));
  }, [hours.data]);
  const onSaved = (data: Hours, text: string) => {
    client.setQueryData(["business-hours"], data);
    setSaved(text);
  };
  const save = useMutation({
    mutationFn: async (body: Schemas["BusinessHoursRequest"]) => unwrap(await api.PUT("/api/v1/business-hours/", { body })),
    onSuccess: (data) => onSaved(data, "Business hours saved."),
  });
  const clear = useMutation({
    mutationFn: async () => unwrap(await api.DELETE("/api/v1/business-hours/")) as Hours,
    onSuccess: (data) => onSaved(data, "Business hours removed: always open."),
  });
  if (hours.isPending || !form) return hours.isError ? <ErrorMessage error={hours.error} /> : <Loading />;
  const submit = (event: FormEvent) => {
    event.preventDefault();
    setSaved("");
    try {
      const body: Schemas["BusinessHoursRequest"] = {
        timezone: form.timezone.trim() || "UTC",
        hours: Object.fromEntries(
          DAYS.map(([day, name]): [string, string[][]] => {
            try {
              return [day, parseSpans(form.days[day] ?? "")];
            } catch (error) {
              throw new Error(`${name}: ${(error as Error).message}`);
            }
          }).filter(([, spans]) => spans.length > 0),
        ),
        holidays: form.holidays.split(/[\s,]+/).filter(Boolean),
      };
      if (Object.keys(body.hours).length === 0) throw new Error("Open at least one day, or use “Always open”.");
      setProblem("");
      save.mutate(body);
    } catch (error) {
      setProblem((error as Error).message);
    }
  };
  const zones = timeZones();
  return (
    <div>
      <h2>Business hours</h2>
      <p className="muted">
        {hours.data?.configured
          ? "Reply and resolution times can be counted inside these hours (Analytics → business hours)."
          : "No business hours are set: the business counts as always open."}
      </p>
      <form onSubmit={submit} className="stack" aria-label="Business hours">
        <label>
          Time zone
          <input
            value={form.timezone}
            list="time-zones"
            disabled={!canEdit}
            onChange={(e) => setForm({ ...form, timezone: e.target.value })}
          />
          <datalist id="time-zones">
            {zones.map((zone) => (
              <option key={zone} value={zone} />
            ))}
          </datalist>
        </label>
        <fieldset>
          <legend>Opening hours (empty = closed; several spans separated by commas)</legend>
          {DAYS.map(([day, name]) => (
            <label key={day} className="row">
              <span style={{ minWidth: "7rem" }}>{name}</span>
              <input
                aria-label={`${name} opening hours`}
                placeholder="closed"
                value={form.days[day] ?? ""}
                disabled={!canEdit}
                onChange={(e) => setForm({ ...form, days: { ...form.days, [day]: e.target.value } })}
              />
            </label>
          ))}
        </fieldset>
        <label>
          Holidays (one YYYY-MM-DD per line)
          <textarea
            rows={3}
            value={form.holidays}
            disabled={!canEdit}
            onChange={(e) => setForm({ ...form, holidays: e.target.value })}
          />
        </label>
        {canEdit ? (
          <div className="row">
            <button type="submit" disabled={save.isPending}>
              Save business hours
            </button>
            <button type="button" onClick={() => clear.mutate()} disabled={clear.isPending || !hours.data?.configured}>
              Always open
            </button>
          </div>
        ) : (
          <p className="muted">Only admins can change business hours.</p>
        )}
        {problem ? (
          <div className="error" role="alert">
            {problem}
          </div>
        ) : null}
        {save.error ? <ErrorMessage error={save.error} /> : null}
        {clear.error ? <ErrorMessage error={clear.error} /> : null}
        <p role="status" className="muted">
          {saved}
        </p>
      </form>
    </div>
  );
}
