"""Citizens' reports (data contract §4 and §6): intake, placement, workflow steps and their states."""
