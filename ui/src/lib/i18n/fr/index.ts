// French. Every section must translate every key of its English section (the types say so).
import { instructor } from "./instructor";
import { labs } from "./labs";
import { learner } from "./learner";
import { shell } from "./shell";
import { updates } from "./updates";

export const fr = { ...shell, ...learner, ...labs, ...instructor, ...updates };
