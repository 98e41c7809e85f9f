import type { Translation } from "../en";
import type { labs as english } from "../en/labs";

export const labs: Translation<typeof english> = {
};
