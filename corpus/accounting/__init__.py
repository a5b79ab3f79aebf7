"""Funder accounting: the meter, cost, prices, budget forecasts and the run report."""
