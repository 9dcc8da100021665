import { MemoryStore } from '../../src/store/memoryStore.js';
import { storeContract } from './contract.js';

storeContract('memory', async (indexes) => ({
  store: new MemoryStore({ indexes }),
  cleanup: async () => undefined,
}));
