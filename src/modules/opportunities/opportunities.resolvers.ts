export const opportunitiesResolvers = {};
export const opportunitiesLoaders = {};
