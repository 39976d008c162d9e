// The HubTLS module (being written).
