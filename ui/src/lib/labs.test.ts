import { afterEach, describe, expect, it } from "vitest";
import type { LabSession } from "../bindings/LabSession";
import { setLanguage } from "./i18n";
import {
  InputQueue, breadcrumbs, childPath, describeTerminal, difficultyLabel, formatCost, isLive, parentOf, sessionLabel,
  timeLeft,
} from "./labs";

afterEach(() => setLanguage("en"));

const session = (status: LabSession["status"]): LabSession => ({ status } as LabSession);

describe("the lab's status line", () => {
  it("names each session state and knows which are live", () => {
    expect(sessionLabel(null)).toBe("Not started");
    expect(sessionLabel(session("active"))).toBe("Running");
    expect(sessionLabel(session("expired"))).toBe("Stopped (idle too long)");
    expect(isLive(session("paused"))).toBe(true);
    expect(isLive(session("completed"))).toBe(false);
    expect(isLive(null)).toBe(false);
  });

  it("counts down to the auto-stop", () => {
    const now = Date.parse("2026-01-01T10:00:00Z");
    expect(timeLeft(null, now)).toBeNull();
    expect(timeLeft("garbage", now)).toBeNull();
    expect(timeLeft("2026-01-01T09:59:00Z", now)).toBe("any moment now");
    expect(timeLeft("2026-01-01T10:00:42Z", now)).toBe("42 s");
    expect(timeLeft("2026-01-01T10:29:30Z", now)).toBe("30 min");
    expect(timeLeft("2026-01-01T11:05:00Z", now)).toBe("1 h 05 min");
  });

  it("shows exact money without floats", () => {
    expect(formatCost("0.0050")).toBe("$0.005");
    expect(formatCost("1.2000")).toBe("$1.20");
    expect(formatCost("3")).toBe("$3.00");
    expect(formatCost("0.1234")).toBe("$0.1234");
  });
});

describe("the reconnect indicator", () => {
  it("says what the connection is doing and why", () => {
    expect(describeTerminal({ state: "connected", mode: "interactive" }).tone).toBe("connected");
    expect(describeTerminal({ state: "connected", mode: "read_only" }).label).toBe("Connected (watching)");
    const now = 10_000;
    const r = describeTerminal({ state: "reconnecting", attempt: 3, retry_in_ms: 2000, reason: "The connection broke." }, now, now - 500);
    expect(r).toEqual({ label: "Reconnecting (attempt 3, retrying in 2 s)", tone: "reconnecting", detail: "The connection broke." });
    expect(describeTerminal({ state: "reconnecting", attempt: 1, retry_in_ms: 250, reason: "x" }, now, now - 400).label)
      .toBe("Reconnecting (attempt 1, retrying now)");
    expect(describeTerminal({ state: "closed", code: "exited", reason: "The shell ended." }))
      .toEqual({ label: "Disconnected", tone: "closed", detail: "The shell ended." });
  });
});

describe("the file browser", () => {
  it("splits a path into breadcrumbs and finds parents", () => {
    expect(breadcrumbs("")).toEqual([{ name: "workspace", path: "" }]);
    expect(breadcrumbs("lab/notes")).toEqual([
      { name: "workspace", path: "" }, { name: "lab", path: "lab" }, { name: "notes", path: "lab/notes" },
    ]);
    expect(parentOf("lab/notes")).toBe("lab");
    expect(parentOf("lab")).toBe("");
  });

  it("builds child paths and refuses bad names", () => {
    expect(childPath("", " notes ")).toEqual({ path: "notes" });
    expect(childPath("lab", "a.txt")).toEqual({ path: "lab/a.txt" });
    expect(childPath("lab", "")).toHaveProperty("error");
    expect(childPath("lab", "a/b")).toHaveProperty("error");
    expect(childPath("lab", "..")).toHaveProperty("error");
  });
});

describe("in French", () => {
  it("says the lab's state, the countdown, the connection and the file browser's words", () => {
    setLanguage("fr");
    expect(sessionLabel(null)).toBe("Non démarré");
    expect(sessionLabel(session("expired"))).toBe("Arrêté (inactif trop longtemps)");
    const now = Date.parse("2026-01-01T10:00:00Z");
    expect(timeLeft("2026-01-01T09:59:00Z", now)).toBe("d’un instant à l’autre");
    expect(timeLeft("2026-01-01T11:05:00Z", now)).toBe("1 h 05 min");
    expect(describeTerminal({ state: "connected", mode: "read_only" }).label).toBe("Connecté (en observation)");
    expect(describeTerminal({ state: "reconnecting", attempt: 3, retry_in_ms: 2000, reason: "x" }, 10_000, 9_500).label)
      .toBe("Reconnexion (tentative 3, nouvel essai dans 2 s)");
    expect(breadcrumbs("lab")[0]).toEqual({ name: "espace de travail", path: "" });
    expect(childPath("lab", "")).toEqual({ error: "Saisissez un nom." });
    expect(difficultyLabel("Advanced")).toBe("Avancé");
    expect(difficultyLabel("Expert")).toBe("Expert");
  });
});

describe("keystrokes", () => {
  it("are sent in order, one command at a time, joined while one is in flight", async () => {
    const sent: string[] = [];
    let release: () => void = () => {};
    let inFlight = 0;
    let most = 0;
    const q = new InputQueue((data) => {
      sent.push(data);
      inFlight += 1;
      most = Math.max(most, inFlight);
      return new Promise<void>((resolve) => {
        release = () => { inFlight -= 1; resolve(); };
      });
    });
    q.push("e");
    q.push("c");
    q.push("ho");
    expect(sent).toEqual(["e"]);
    release();
    await new Promise((r) => setTimeout(r, 0));
    expect(sent).toEqual(["e", "cho"]);
    q.push("\r");
    release();
    await new Promise((r) => setTimeout(r, 0));
    release();
    await new Promise((r) => setTimeout(r, 0));
    expect(sent).toEqual(["e", "cho", "\r"]);
    expect(most).toBe(1);
  });

  it("keep going after a failed send", async () => {
    const sent: string[] = [];
    const q = new InputQueue(async (data) => {
      sent.push(data);
      if (data === "a") throw new Error("closed");
    });
    q.push("a");
    await new Promise((r) => setTimeout(r, 0));
    q.push("b");
    await new Promise((r) => setTimeout(r, 0));
    expect(sent).toEqual(["a", "b"]);
  });
});
