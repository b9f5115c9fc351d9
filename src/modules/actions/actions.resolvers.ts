export const actionsResolvers = {};
export const actionsLoaders = {};
