"""The campaign domain: pure decide/evolve functions per aggregate, standard library only."""
