// Preloaded into a child `driftstream` process by tests that must see it end by itself: process.exit
// becomes a no-op, so the process ends only once nothing (a socket, a timer) keeps it alive.
process.exit = () => undefined;
