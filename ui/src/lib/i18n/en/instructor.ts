// Words of the instructor screens.
export const instructor = {
} as const;
