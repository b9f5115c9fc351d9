// What every part of the seed works with: the services, the randomness, the running totals.
import type { Principal } from '../../lib/access.js';
import type { LifecycleStage } from '../../modules/customers/index.js';
import type { Services } from '../../services.js';
import type { Rng } from './random.js';

export type SeedSummary = {
  created: boolean;
  units: number;
  users: number;
  customers: number;
  contacts: number;
  frozen: number;
  shares: number;
  interactions: number;
  opportunities: number;
  actions: number;
  handoffs: number;
  orders: number;
  ms: number;
};

export type SeedContext = {
  services: Services;
  rng: Rng;
  admin: Principal;
  // The principal of a seeded user, loaded once: records are created as the people who own them.
  as: (userId: string) => Promise<Principal>;
  summary: SeedSummary;
  // One clock for the whole run: "days ago" is measured from it.
  now: number;
};

/** A seeded customer and where its story should end: the lifecycle stage it reaches. */
export type SeededCustomer = {
  id: string;
  ownerUnitId: string;
  ownerUserId: string | null;
  creatorId: string;
  target: LifecycleStage;
  partner: boolean;
  contactIds: string[];
};
