package passes

// runDCE removes nodes whose results nothing reads. The import leaves some
// (unused position values), and every other pass calls the same sweep as it
// commits, so later dumps never hold dead code.
func runDCE(c *Context) {
	before := len(c.Graph.Nodes)
	c.stat.Candidates = before
	c.Graph.Nodes = removeDead(c.Graph.Nodes, c.Graph.Outputs)
	c.stat.Rewrites = before - len(c.Graph.Nodes)
}
