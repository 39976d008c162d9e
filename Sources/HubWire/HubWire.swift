// The HubWire module: see docs/PROTOCOL.md (being written).
