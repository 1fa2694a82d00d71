"""Verify the course's examples against a real Docker engine.

The flow is one way: `discover` finds example folders and reads their contract
(`verify.toml`), `runner` turns each contract into steps on the engine through
`engine`, `probes` checks what a running example answers, and `report` formats
the results. Around them, `selection` picks the examples of a run, `reuse`
skips those whose inputs match an earlier pass, and `cleanup` removes what
crashed runs left. Only `engine` runs docker commands.
"""
