/** Process entry of the server (`npm start`, the Docker image); `metapixel serve` is the same. */
import { runServer, startFailed } from './run-server';

runServer().catch(startFailed);
