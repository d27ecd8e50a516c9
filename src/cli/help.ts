export function helpText(): string {
  return `traffic: a reverse proxy and load balancer with Traefik-compatible configuration

Usage:
  traffic [run] [--config FILE] [--<key>=<value> ...]   start the proxy (run is the default)
  traffic validate [--config FILE] [--<key>=<value> ...] check the configuration and exit
  traffic explain [--config FILE] [--entrypoint NAME] 'GET https://host/path' [-H 'Name: value' ...]
                                                        which router a request would take, and why
  traffic healthcheck [--config FILE] [--ping] [--<key>=<value> ...]
                                                        ask the running proxy's /ping (Traefik's
                                                        healthcheck command, for container checks)
  traffic --help | --version

Options:
  -c, --config FILE     static configuration (YAML or TOML); aliases --configFile,
                        --configfile; env TRAFFIC_CONFIGFILE. Without it:
                        traffic.{yaml,yml,toml}, then
                        traefik.{toml,yaml,yml}, in /etc/traefik, $XDG_CONFIG_HOME,
                        ~/.config and the working directory, the first found
  -h, --help            show this text
  -V, --version         print the version

Any static configuration key can be set by a flag or an environment variable.
As in Traefik, one source is read: a file, else the flags, else the TRAEFIK_
variables (the others are ignored, with a warning); TRAFFIC_ variables apply
over any source, the file included (flags over them):
  --entryPoints.web.address=:9090     TRAFFIC_ENTRYPOINTS_WEB_ADDRESS=:9090
  --log.level=DEBUG                   TRAFFIC_LOG_LEVEL=DEBUG
  --accessLog                         (turns a section on with its defaults)
Lists are comma-separated: --entryPoints.web.forwardedHeaders.trustedIPs=10.0.0.0/8,::1

Relative paths in the configuration are relative to the working directory, as in Traefik.
validate exits with 0 when there is no error, 1 otherwise.
explain picks the entry point that terminates TLS for https:// URLs (the others for http://),
on the URL's port when one listens there; --entrypoint names another. Redirects (an entry
point's redirection, redirectScheme, redirectRegex) are shown and followed.
explain exits with 0 when a router matches, 1 when none does, 2 on bad input.
healthcheck exits with 0 when /ping answers 200, 1 otherwise.
Reference: docs/configuration.md
`;
}
