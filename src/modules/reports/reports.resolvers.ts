export const reportsResolvers = {};
export const reportsLoaders = {};
