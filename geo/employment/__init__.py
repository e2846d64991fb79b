"""New-employment groups (新就业群体), contract section 7: firms, outlets, workers, stations.

``columns`` the four kinds' column specs (canonical names, Chinese header aliases);
``values`` the spellings of sector, party, relation, services and yes/no; ``rows`` the
row rules an import runs (every refusal and warning of section 7); ``metrics`` the
``new_employment`` section of ``gridmap metrics --json``; ``demo`` the demo street
office's set.
"""
