package main

func articleCommands() []command {
	return []command{}
}
