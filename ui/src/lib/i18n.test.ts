import { afterEach, describe, expect, it } from "vitest";
import { LANGUAGES, chooseLanguage, formatNumber, resolveLanguage, setLanguage, t, tn } from "./i18n";
import { en } from "./i18n/en";
import { errorMessage, formatBytes, waiting } from "./words";

afterEach(() => setLanguage("en"));

function placeholders(message: string): string[] {
  return [...message.matchAll(/\{(\w+)\}/g)].map((m) => m[1]).sort();
}

describe("the message catalogs", () => {
  for (const [tag, { messages }] of Object.entries(LANGUAGES)) {
    it(`${tag} has every key, none empty, each with the English placeholders`, () => {
      for (const key of Object.keys(en) as (keyof typeof en)[]) {
        const message = messages[key];
        expect(message, key).toBeTypeOf("string");
        expect(message.trim(), key).not.toBe("");
        expect(placeholders(message), key).toEqual(placeholders(en[key]));
      }
      expect(Object.keys(messages).sort()).toEqual(Object.keys(en).sort());
    });
  }

  it("gives every plural message an _other form", () => {
    for (const key of Object.keys(en)) {
      if (key.endsWith("_one")) expect(Object.keys(en), key).toContain(key.replace(/_one$/, "_other"));
    }
  });
});

describe("choosing the language", () => {
  it("takes the learner's choice, else the system's, else English", () => {
    expect(resolveLanguage("fr", "en_US")).toBe("fr");
    expect(resolveLanguage(null, "fr-CA")).toBe("fr");
    expect(resolveLanguage(undefined, "fr_FR")).toBe("fr");
    expect(resolveLanguage("de", "fr-FR")).toBe("fr");
    expect(resolveLanguage(null, "de-DE")).toBe("en");
    expect(resolveLanguage(null, null)).toBe("en");
  });

  it("speaks the chosen language", () => {
    chooseLanguage(null, "fr-FR");
    expect(t("nav.catalog")).toBe("Catalogue");
    chooseLanguage("en", "fr-FR");
    expect(t("nav.catalog")).toBe("Catalog");
  });
});

describe("plural forms and numbers", () => {
  it("follows each language's rules", () => {
    expect(waiting(0)).toBe("nothing waiting");
    expect(waiting(1)).toBe("1 change waiting");
    expect(waiting(2)).toBe("2 changes waiting");
    setLanguage("fr");
    expect(tn("sync.waiting", 1)).toBe("1 modification en attente");
    expect(tn("sync.waiting", 3)).toBe("3 modifications en attente");
    expect(formatNumber(1234.5)).toMatch(/^1\s234,5$/);
    expect(formatBytes(1536)).toBe("1,5 Kio");
  });

  it("fills placeholders and leaves unknown ones visible", () => {
    expect(t("app.launch_error", { error: "no window" })).toBe("The app could not start: no window");
    expect(t("app.launch_error")).toBe("The app could not start: {error}");
  });
});

describe("errors", () => {
  it("keeps the server's own words in English and says the code's in French", () => {
    const offline = { code: "offline", message: "The server cannot be reached (connection refused)." };
    expect(errorMessage(offline)).toBe(offline.message);
    setLanguage("fr");
    expect(errorMessage(offline)).toMatch(/^Vous êtes hors ligne/);
    expect(errorMessage({ code: "some_new_code", message: "As it came." })).toBe("As it came.");
  });
});
