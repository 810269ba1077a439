package main

func subscriberCommands() []command {
	return []command{}
}
