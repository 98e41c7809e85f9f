import type { Translation } from "../en";
import type { instructor as english } from "../en/instructor";

export const instructor: Translation<typeof english> = {
};
