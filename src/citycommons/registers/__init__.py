"""Algorithm register: records of the algorithmic systems the city uses, their review workflow and exports."""
