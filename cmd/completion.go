package cmd

import (
	"strings"

	"github.com/spf13/cobra"

	"github.com/agcurl/agcurl/internal/config"
)

// addCompletions registers dynamic completion for --profile (and
// configure --delete) from the configured profiles, and the fixed sets of
// values some flags take; and gives cobra's completion command its help.
func addCompletions(f *Factory, root *cobra.Command) {
	profiles := func(c *cobra.Command, args []string, prefix string) ([]string, cobra.ShellCompDirective) {
		dir, err := f.ConfigDir()
		if err != nil {
			return nil, cobra.ShellCompDirectiveNoFileComp
		}
		cfg, err := config.Load(dir)
		if err != nil {
			return nil, cobra.ShellCompDirectiveNoFileComp
		}
		var out []string
		for _, n := range cfg.ProfileNames() {
			if strings.HasPrefix(n, prefix) {
				out = append(out, n)
			}
		}
		return out, cobra.ShellCompDirectiveNoFileComp
	}
	fixed := func(values ...string) func(*cobra.Command, []string, string) ([]string, cobra.ShellCompDirective) {
		return func(*cobra.Command, []string, string) ([]string, cobra.ShellCompDirective) {
			return values, cobra.ShellCompDirectiveNoFileComp
		}
	}
	_ = root.RegisterFlagCompletionFunc("profile", profiles)
	_ = root.RegisterFlagCompletionFunc("color", fixed("auto", "always", "never"))
	for _, c := range root.Commands() {
		switch c.Name() {
		case "configure":
			_ = c.RegisterFlagCompletionFunc("delete", profiles)
		case "login":
			_ = c.RegisterFlagCompletionFunc("prompt", fixed("login", "none", "consent", "select_account"))
		case "fetch":
			_ = c.RegisterFlagCompletionFunc("request", fixed("GET", "POST", "PUT", "PATCH", "DELETE", "HEAD", "OPTIONS"))
		}
	}
	root.InitDefaultCompletionCmd()
	for _, c := range root.Commands() {
		if c.Name() != "completion" {
			continue
		}
		c.Long = `Generate the autocompletion script for agcurl for the specified shell.
See each sub-command's help for details on how to use the generated script.
Bash completion needs the bash-completion package (Debian and Ubuntu:
apt install bash-completion; macOS: brew install bash-completion@2).`
		c.Example = `  source <(agcurl completion bash)                   # bash (needs bash-completion), this shell
  agcurl completion zsh > "${fpath[1]}/_agcurl"       # zsh
  agcurl completion fish > ~/.config/fish/completions/agcurl.fish
  agcurl completion powershell | Out-String | Invoke-Expression`
		for _, sub := range c.Commands() {
			sub.Example = "  agcurl completion " + sub.Name() + " > agcurl." + sub.Name()
		}
	}
}
