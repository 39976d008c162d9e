// The HubPolicy module (being written).
