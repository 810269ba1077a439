package main

import (
	"flag"
	"fmt"

	"github.com/kommune21/digest/taxonomy"
)

func cmdRegionsList(a *app, args []string) error {
	fs := a.flags("regions list", "[--json]", "List DE (bundesweit) and the 16 Länder with their codes.")
	asJSON := fs.Bool("json", false, "print a JSON array of {code, name}")
	if _, err := a.parse(fs, args, 0, 0); err != nil {
		return err
	}
	db, err := a.openDB()
	if err != nil {
		return err
	}
	rs, err := taxonomy.NewStore(db).Regions(a.ctx)
	if err != nil {
		return err
	}
	if *asJSON {
		return a.printJSON(rs)
	}
	tw := a.table()
	fmt.Fprintln(tw, "CODE\tNAME")
	for _, r := range rs {
		fmt.Fprintf(tw, "%s\t%s\n", r.Code, cl(r.Name))
	}
	return tw.Flush()
}

func cmdTopicsList(a *app, args []string) error {
	fs := a.flags("topics list", "[--json]", "List the topics subscribers can choose.")
	asJSON := fs.Bool("json", false, "print a JSON array of {slug, name}")
	if _, err := a.parse(fs, args, 0, 0); err != nil {
		return err
	}
	db, err := a.openDB()
	if err != nil {
		return err
	}
	ts, err := taxonomy.NewStore(db).Topics(a.ctx)
	if err != nil {
		return err
	}
	if *asJSON {
		return a.printJSON(ts)
	}
	tw := a.table()
	fmt.Fprintln(tw, "SLUG\tNAME")
	for _, t := range ts {
		fmt.Fprintf(tw, "%s\t%s\n", t.Slug, cl(t.Name))
	}
	return tw.Flush()
}

func topicArgs(a *app, fs *flag.FlagSet, args []string) (taxonomy.Topic, error) {
	pos, err := a.parse(fs, args, 2, 2)
	if err != nil {
		return taxonomy.Topic{}, err
	}
	return taxonomy.Topic{Slug: pos[0], Name: pos[1]}, nil
}

func cmdTopicsAdd(a *app, args []string) error {
	fs := a.flags("topics add", "SLUG NAME", "Add a topic, e.g. `digest topics add open-data \"Open Data\"`.")
	t, err := topicArgs(a, fs, args)
	if err != nil {
		return err
	}
	if err := taxonomy.ValidateTopic(t); err != nil {
		return &usageError{msg: err.Error()}
	}
	db, err := a.openDB()
	if err != nil {
		return err
	}
	if err := taxonomy.NewStore(db).AddTopic(a.ctx, t); err != nil {
		return err
	}
	fmt.Fprintf(a.stdout, "added topic %s (%s)\n", t.Slug, t.Name)
	return nil
}

func cmdTopicsRename(a *app, args []string) error {
	fs := a.flags("topics rename", "SLUG NAME", "Give a topic a new name; its slug stays.")
	t, err := topicArgs(a, fs, args)
	if err != nil {
		return err
	}
	if err := taxonomy.ValidateTopic(t); err != nil {
		return &usageError{msg: err.Error()}
	}
	db, err := a.openDB()
	if err != nil {
		return err
	}
	if err := taxonomy.NewStore(db).RenameTopic(a.ctx, t.Slug, t.Name); err != nil {
		return err
	}
	fmt.Fprintf(a.stdout, "renamed topic %s to %s\n", t.Slug, t.Name)
	return nil
}
