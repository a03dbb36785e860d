require ["vnd.dovecot.filter", "fileinto", "mailbox"];

# backstop adds "X-Backstop: <verdict>; ..." to bounces, by the system
# rules and the user's own file when there is one (%u, %d: from $USER)
filter "backstop" ["filter", "-r", "@ETC@/users/%d/%u.yaml"];

if header :matches "X-Backstop" "backscatter;*" {
  fileinto :create "Junk";
  stop;
}
