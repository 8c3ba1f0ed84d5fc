//! PMI-1 and PMI-2 wire-protocol clients, and singleton mode.
