import { describe, expect, it } from "vitest";
import type { SyncStatus } from "../bindings/SyncStatus";
import { describeSync, downloadPercent, errorMessage, formatBytes, formatPrice, languageName, waiting } from "./words";

const status = (s: Partial<SyncStatus>): SyncStatus => ({
  online: true, syncing: false, pending: 0, last_synced_at: "2026-01-01T00:00:00Z", problem: null, ...s,
});

describe("the offline indicator", () => {
  it("counts the changes waiting in words", () => {
    expect(waiting(0)).toBe("nothing waiting");
    expect(waiting(1)).toBe("1 change waiting");
    expect(waiting(3)).toBe("3 changes waiting");
  });

  it("says offline with what is waiting and why", () => {
    const shown = describeSync(status({ online: false, pending: 1, problem: "You are offline." }));
    expect(shown).toEqual({ label: "Offline · 1 change waiting", tone: "offline", detail: "You are offline." });
  });

  it("says connecting before the first sync, not offline", () => {
    expect(describeSync(status({ online: false, last_synced_at: null })).tone).toBe("syncing");
  });

  it("shows a problem even while online", () => {
    const shown = describeSync(status({ problem: "The server refused to sync: nope" }));
    expect(shown.tone).toBe("problem");
    expect(shown.detail).toContain("refused");
  });

  it("is calm when everything is sent", () => {
    expect(describeSync(status({})).label).toBe("Online · nothing waiting");
  });
});

describe("words", () => {
  it("reads command errors, strings and anything else", () => {
    expect(errorMessage({ code: "invalid_credentials", message: "Wrong e-mail or password." })).toBe(
      "Wrong e-mail or password.",
    );
    expect(errorMessage("plain")).toBe("plain");
    expect(errorMessage(42)).toBe("Something went wrong.");
  });

  it("formats sizes, prices and download progress", () => {
    expect(formatBytes(512)).toBe("512 B");
    expect(formatBytes(1536)).toBe("1.5 KiB");
    expect(formatBytes(250 * 1024 * 1024)).toBe("250 MiB");
    expect(formatPrice("0.00", true)).toBe("Free");
    expect(formatPrice("89.00", false)).toBe("$89.00");
    expect(downloadPercent(50, 200)).toBe(25);
    expect(downloadPercent(50, null)).toBeNull();
    expect(downloadPercent(300, 200)).toBe(100);
  });

  it("names caption languages, and keeps a tag it cannot name", () => {
    expect(languageName("fr")).toBe("French");
    expect(languageName("pt-BR")).toBe("Brazilian Portuguese");
    expect(languageName("not a tag")).toBe("not a tag");
  });
});
