/**
 * Where the exact cache's embedded store lives in a data dir. Its own module, free of the layer's
 * imports, so `isartor serve` can start reading that store's index snapshot before the engine's
 * modules initialise (store/snapshotPrefetch.ts).
 */
import { join } from 'node:path';

export const EXACT_STORE_NAME = 'exact';

export const exactStoreDir = (dataDir: string): string => join(dataDir, 'exact');
