export const contactHistoryResolvers = {};
export const contactHistoryLoaders = {};
