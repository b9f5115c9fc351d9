export const lifecycleResolvers = {};
export const lifecycleLoaders = {};
