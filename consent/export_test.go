package consent

// DemoPolicy gives the external tests the internal tests' demo policy.
var DemoPolicy = demoPolicy
