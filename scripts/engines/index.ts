// Throwaway engines for the cluster launcher and tests: each starts on a free localhost port in
// a directory it is given, resolves once it answers, and stops with stop().
export { startPostgres, type PostgresEngine, type PostgresOptions } from "./postgres";
export { startRedis, type RedisEngine, type RedisOptions } from "./redis";
export { startS3, type S3Engine, type S3Options } from "./s3";
export {
  startHaproxy,
  haproxyConfig,
  HAPROXY_MONITOR_PATH,
  STICKY_COOKIE,
  type HaproxyBackend,
  type HaproxyEngine,
  type HaproxyOptions,
} from "./haproxy";
export { freePort } from "./free-port";
