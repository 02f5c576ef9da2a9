"""The query language: parse → tree → one Aho-Corasick automaton; pushdown to search APIs."""
