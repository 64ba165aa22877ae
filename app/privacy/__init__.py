"""Privacy checks on this machine: redaction of exports, the self-check of Candor's promises."""
