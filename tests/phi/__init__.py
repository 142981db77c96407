"""Independent audit of de-identification: a planted-PHI corpus, a leak scanner, and the tests holding the engine to
PS3.15 Table E.1-1 (2025b). Nothing here reads the engine's own profile table: the expectations come from the
reference copy of the standard's table, so the engine cannot grade its own homework."""
