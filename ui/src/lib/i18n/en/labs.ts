// Words of the labs screens.
export const labs = {
} as const;
