// Words of the learner screens.
export const learner = {
} as const;
