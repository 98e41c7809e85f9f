import { describe, expect, it } from "vitest";
import { actionFor, activeCue, clock, keyBelongsToTarget, parseTimestamp, parseWebVtt, searchCues, stepRate } from "./player";

const VTT = `WEBVTT

NOTE a comment that is no cue

1
00:00:00.000 --> 00:00:04.000 align:start
Welcome to <b>Skilltrack</b>.

00:04.000 --> 00:08.500
<v Ada>The terminal runs</v>
the commands you type.

00:00:09.000 --> 00:00:08.000
A cue ending before it starts is dropped.

00:00:10.000 --> 00:00:12.000
Écrivez &lt;echo&gt; &amp; appuyez.
`;

describe("transcript", () => {
  it("reads timestamps with and without hours", () => {
    expect(parseTimestamp("01:02:03.500")).toBe(3723.5);
    expect(parseTimestamp("02:03.250")).toBe(123.25);
    expect(parseTimestamp("2:3.25")).toBeNull();
  });

  it("reads the cues of a WebVTT file as plain text, skipping notes and broken cues", () => {
    const cues = parseWebVtt(VTT);
    expect(cues.map((c) => c.text)).toEqual([
      "Welcome to Skilltrack.",
      "The terminal runs the commands you type.",
      "Écrivez <echo> & appuyez.",
    ]);
    expect(cues[1]).toMatchObject({ start: 4, end: 8.5 });
  });

  it("follows playback, and is searchable without case or accents", () => {
    const cues = parseWebVtt(VTT);
    expect(activeCue(cues, 0)).toBe(0);
    expect(activeCue(cues, 5)).toBe(1);
    expect(activeCue(cues, 9)).toBe(-1);
    expect(activeCue(cues, 11)).toBe(2);
    expect(searchCues(cues, "ecrivez ECHO")).toEqual([2]);
    expect(searchCues(cues, "terminal")).toEqual([1]);
    expect(searchCues(cues, "")).toEqual([0, 1, 2]);
  });

  it("shows times as a clock", () => {
    expect(clock(0)).toBe("0:00");
    expect(clock(65.9)).toBe("1:05");
    expect(clock(3725)).toBe("1:02:05");
  });
});

describe("player keys", () => {
  it("maps the usual shortcuts", () => {
    expect(actionFor({ key: " " })).toEqual({ kind: "toggle-play" });
    expect(actionFor({ key: "ArrowRight" })).toEqual({ kind: "seek-by", seconds: 5 });
    expect(actionFor({ key: "j" })).toEqual({ kind: "seek-by", seconds: -10 });
    expect(actionFor({ key: "f" })).toEqual({ kind: "toggle-fullscreen" });
    expect(actionFor({ key: "c" })).toEqual({ kind: "toggle-captions" });
    expect(actionFor({ key: "5" })).toEqual({ kind: "seek-to-share", share: 0.5 });
    expect(actionFor({ key: ">" })).toEqual({ kind: "speed-step", step: 1 });
    expect(actionFor({ key: "f", ctrlKey: true })).toBeNull();
    expect(actionFor({ key: "q" })).toBeNull();
  });

  it("leaves typing and buttons alone", () => {
    expect(keyBelongsToTarget("f", { tagName: "INPUT" })).toBe(true);
    expect(keyBelongsToTarget(" ", { tagName: "BUTTON" })).toBe(true);
    expect(keyBelongsToTarget("f", { tagName: "BUTTON" })).toBe(false);
    expect(keyBelongsToTarget(" ", { tagName: "DIV" })).toBe(false);
    expect(keyBelongsToTarget("k", { tagName: "DIV", isContentEditable: true })).toBe(true);
  });

  it("steps the speed within 0.5–2", () => {
    expect(stepRate(1, 1)).toBe(1.25);
    expect(stepRate(2, 1)).toBe(2);
    expect(stepRate(0.5, -1)).toBe(0.5);
    expect(stepRate(1.5, -1)).toBe(1.25);
  });
});
