/** Reachability of a dependency for /readyz. */
export interface HealthCheck {
  name: string;
  check(): Promise<boolean>;
}
