// socket.io room names, stated once: with the Redis adapter a room spans every gateway replica.

/** The pages that have a notebook open. */
export const notebookRoom = (notebookId: string) => `notebook:${notebookId}`;

/** Every page of one signed-in user (signing out everywhere ends them). */
export const userRoom = (userId: string) => `user:${userId}`;

/** A worker's one connection, wherever it is connected. */
export const workerRoom = (workerId: string) => `worker:${workerId}`;
