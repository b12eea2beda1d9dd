"""Case handling: placing submitted requests, the officers' and the CMU's actions, the
inboxes, the reactions to ratings and deadlines, and each request's hash-chained timeline."""
