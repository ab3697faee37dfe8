"""Policy files shipped with spotcheck; `policy.toml` is the default for `--policy`."""
