export const USAGE = `kampung-gw — gateway daemon for Smart Kampung village halls (balai desa)

Usage:
  kampung-gw run          [--config F]          run the daemon in the foreground
  kampung-gw check-config [--config F]          validate the config; exit 0 valid, 1 invalid
  kampung-gw status       [--config F] [--json] link, devices, outbox, cache, clock (daemon running or not)
  kampung-gw setup-code   [--config F] [--json] the pending one-time setup code (root / kampung-gw)
  kampung-gw user add|passwd|remove NAME [--config F]   technician accounts (password from stdin)
  kampung-gw doctor       [--config F] [--lang en] [--json]   on-box diagnosis
  kampung-gw provision DIR [--config F] [--root R]   install a village bundle, then doctor
  kampung-gw provision --from URL --code-file F|--code - --ca FILE|--fingerprint SHA256 [--config F] [--root R]
                                                fetch the bundle once with a one-time code, install it
  kampung-gw demo [--scenario fiber-cut] [--speed X]   try-out: daemon, kiosks, upstream, regency, page
  kampung-gw fleet-sim --mqtt URL [--villages N] [--speed X] [--duration S] [--linger S]
                                                simulated village gateways (fleet-sim --help)
  kampung-gw upgrade BUNDLE.tar.gz | --resume   upgrade with automatic rollback (upgrade --help)
  kampung-gw --version                          version, commit, node version, architecture
  kampung-gw regency run    [--config F]        regency side: collector, fleet API, metrics
  kampung-gw regency status [--config F] [--json]   villages by state, messages, seq gaps, lag
  kampung-gw regency user add|passwd|remove NAME [--role viewer|operator|admin] [--config F]   regency accounts
  kampung-gw regency user role NAME viewer|operator|admin [--config F]   change an account's role
  kampung-gw regency provision CODE...|--all [--out DIR] [--cert] [--fetch-code] [--config F]
                                                broker identities, bundles (and one-time fetch codes)
  kampung-gw regency confirm CODE... [--out DIR] [--config F]   the box uses its new identity:
                                                end the rotation's grace, retire the old one
  kampung-gw regency revoke CODE [--out DIR] [--config F]   refuse a village from now on

--config defaults to $KAMPUNG_GW_CONFIG, else /etc/kampung-gateway/config.yaml
(regency commands: $KAMPUNG_REGENCY_CONFIG, else /etc/kampung-gateway/regency.yaml).
Exit codes: 0 ok, 1 bad config or failed check, 2 usage error.
`;
