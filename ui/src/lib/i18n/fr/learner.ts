import type { Translation } from "../en";
import type { learner as english } from "../en/learner";

export const learner: Translation<typeof english> = {
};
