import { afterEach, describe, expect, it } from "vitest";
import type { PreviewStatus } from "../bindings/PreviewStatus";
import { setLanguage } from "./i18n";
import { changeLine, isNewer, problemLocation, readLine } from "./package_preview";

const status = (over: Partial<PreviewStatus> = {}): PreviewStatus => ({
  folder: "/home/me/intro-course",
  version: 1,
  course_id: "package:intro-course",
  title: "Intro",
  problems: [],
  read_at_ms: Date.parse("2026-12-06T08:00:00Z"),
  ...over,
});

afterEach(() => setLanguage("en"));

describe("package preview", () => {
  it("prints a push's changes as the CLI does", () => {
    expect(changeLine({ action: "create", item: "lesson basics/intro" })).toBe("+ create  lesson basics/intro");
    expect(changeLine({ action: "update", item: "course intro" })).toBe("~ update  course intro");
    expect(changeLine({ action: "delete", item: "module old" })).toBe("- delete  module old");
    expect(changeLine({ action: "publish", item: "course intro" })).toBe("* publish course intro");
  });

  it("places a problem as validate prints it", () => {
    expect(problemLocation({ file: "course.json", line: 7, column: 3, message: "m", fix: "f" })).toBe("course.json:7:3");
  });

  it("says how often the folder was read and whether it reads", () => {
    const now = new Date("2026-12-06T08:00:02Z");
    expect(readLine(status(), now)).toBe("Read once, last just now: the package reads cleanly.");
    const broken = status({
      version: 3,
      course_id: null,
      problems: [{ file: "course.json", line: 1, column: 1, message: "m", fix: "f" }],
    });
    expect(readLine(broken, now)).toBe("Read 3 times, last just now: the package has 1 problem.");
  });

  it("says it in French too", () => {
    setLanguage("fr");
    const now = new Date("2026-12-06T08:00:02Z");
    expect(readLine(status(), now)).toBe("Lu une fois, dernière lecture à l’instant : le paquet se lit sans erreur.");
    const problems = [1, 2].map((line) => ({ file: "course.json", line, column: 1, message: "m", fix: "f" }));
    expect(readLine(status({ version: 3, problems }), now)).toBe(
      "Lu 3 fois, dernière lecture à l’instant : le paquet a 2 problèmes.",
    );
  });

  it("takes only newer reads, or another folder's", () => {
    expect(isNewer(null, status())).toBe(true);
    expect(isNewer(status({ version: 2 }), status({ version: 1 }))).toBe(false);
    expect(isNewer(status({ version: 2 }), status({ version: 3 }))).toBe(true);
    expect(isNewer(status({ version: 5 }), status({ folder: "/other", version: 1 }))).toBe(true);
  });
});
