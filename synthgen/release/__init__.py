"""Release policies, the gate, output checking, rendering and signed bundles (to come)."""
