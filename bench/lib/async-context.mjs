// Preloaded (--import) by the telemetry bench's `async-context` variant: one AsyncLocalStorage
// holding a value from start-up on, so every async resource and promise carries it, as they
// do inside a traced request. What Node charges for that, without OpenTelemetry, is the
// floor under any tracer that follows a request into its database and upstream calls.
import { AsyncLocalStorage } from 'node:async_hooks';

new AsyncLocalStorage().enterWith({ request: 'any' });
