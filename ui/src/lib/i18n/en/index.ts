// The reference catalog: English. Each section holds one part of the app's screens; keys are
// `screen.what`, plural forms end in `_one` / `_other` (see ../index.ts `tn`).
import { instructor } from "./instructor";
import { labs } from "./labs";
import { learner } from "./learner";
import { shell } from "./shell";
import { updates } from "./updates";

export const en = { ...shell, ...learner, ...labs, ...instructor, ...updates } as const;

export type MessageKey = keyof typeof en;

/** A section translated: every key of the English section, each with a string. */
export type Translation<Section> = { readonly [K in keyof Section]: string };
